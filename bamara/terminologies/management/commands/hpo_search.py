from bamara.terminologies import search
from bamara.terminologies.management.commands._search import SearchCommand


class Command(SearchCommand):
    help = "Recherche dans la HPO (identifiant HP:, nom ou synonyme, en anglais)."
    search = staticmethod(search.hpo)

    def status(self, hit):
        return "actif" if hit.active else "obsolète"
