from django.apps import AppConfig


class ListsConfig(AppConfig):
    name = "bamara.lists"
    label = "lists"
    verbose_name = "Listes de patients et téléchargements"
