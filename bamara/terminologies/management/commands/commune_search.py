from bamara.terminologies import search
from bamara.terminologies.management.commands._search import SearchCommand


class Command(SearchCommand):
    help = "Recherche d'une commune (nom, code INSEE ou code postal)."
    search = staticmethod(search.communes)
