from django.urls import path

from tasks.views import status

urlpatterns = [path("", status)]
