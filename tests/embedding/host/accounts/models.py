"""The shop's custom user model."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    shop_role = models.CharField(max_length=40, blank=True)
