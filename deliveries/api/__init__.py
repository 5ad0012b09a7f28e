"""Moved: the API root is ``console.api.urls`` (the console app); see ``urls`` here for what an old include meets."""
