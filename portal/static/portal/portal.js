// Small progressive touches; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-from]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copyFrom);
  field.select();
  if (navigator.clipboard) navigator.clipboard.writeText(field.value);
  button.textContent = button.dataset.copied || "✓";
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
