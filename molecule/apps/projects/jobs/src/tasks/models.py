from django.db import models


class Job(models.Model):
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, default="queued")
    done_by = models.CharField(max_length=100, blank=True)
