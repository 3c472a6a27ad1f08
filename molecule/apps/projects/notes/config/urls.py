from django.urls import path

from notes.views import board

urlpatterns = [path("", board)]
