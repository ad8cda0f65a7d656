from bamara.terminologies import search
from bamara.terminologies.management.commands._search import SearchCommand


class Command(SearchCommand):
    help = "Recherche dans la CIM-10 FR (code avec ou sans point, libellé)."
    search = staticmethod(search.cim10)
