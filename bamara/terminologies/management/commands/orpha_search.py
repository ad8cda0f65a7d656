from bamara.terminologies import search
from bamara.terminologies.management.commands._search import SearchCommand


class Command(SearchCommand):
    help = "Recherche dans la nomenclature Orphanet (code, nom français ou anglais, synonyme)."
    search = staticmethod(search.orpha)
    replacement_prefix = "ORPHA:"

    def status(self, hit):
        return hit.obj.get_status_display().lower()
