"""`bamara export_cda --out DIR [--site CODE]`: one CDA SDM-MR 2024.01 document per record."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bamara.audit import trail
from bamara.audit.models import Action
from bamara.intake import exporter, xdm
from bamara.organisations.models import Hospital, Site
from bamara.records.models import Patient


class Command(BaseCommand):
    help = "Écrit le document CDA SDM-MR 2024.01 de chaque dossier (d'un site, d'un établissement ou de tous)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, help="dossier de sortie (créé si besoin)")
        parser.add_argument("--site", action="append", help="code du site (répétable) : dossiers suivis par ce site")
        parser.add_argument("--hospital", help="FINESS de l'établissement : ses dossiers")
        parser.add_argument("--keep-retired", action="store_true",
                            help="écrire aussi les items retirés en 2024.01 (traitements, investigations...), "
                                 "pour un échange bamara-bamara sans perte")
        parser.add_argument("--xdm", action="store_true", help="une archive XDM (zip) par dossier au lieu du XML")
        parser.add_argument("--batch", type=int, default=500, help="dossiers lus par lot")

    def handle(self, *args, **options) -> None:
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        patients = Patient.objects.all()
        if options["site"]:
            known = set(Site.objects.filter(code__in=options["site"]).values_list("code", flat=True))
            missing = sorted(set(options["site"]) - known)
            if missing:
                raise CommandError(f"Site(s) inconnu(s) : {', '.join(missing)}")
            patients = patients.filter(care_episodes__site__code__in=options["site"]).distinct()
        if options["hospital"]:
            hospital = Hospital.objects.filter(finess_et=options["hospital"]).first()
            if hospital is None:
                raise CommandError(f"Établissement FINESS {options['hospital']} inconnu.")
            patients = patients.filter(hospital=hospital)
        ids = list(patients.order_by("pk").values_list("pk", flat=True))
        written = skipped = 0
        for start in range(0, len(ids), options["batch"]):
            batch = exporter.patients_for_export(Patient.objects.filter(pk__in=ids[start:start + options["batch"]]).order_by("pk"))
            for patient in batch:
                if patient.is_foetus and patient.birth_date is None:
                    # 2024.01 carries an unborn foetus inside its mother's document only.
                    skipped += 1
                    self.stderr.write(f"dossier fœtus {patient.uuid} : porté par le document de sa mère, non exporté seul")
                    continue
                data = exporter.export_patient(patient, keep_retired=options["keep_retired"])
                name = f"SDM-MR_{patient.uuid}"
                if options["xdm"]:
                    (out / f"{name}.zip").write_bytes(xdm.pack([(f"{name}.xml", data)]))
                else:
                    (out / f"{name}.xml").write_bytes(data)
                trail.record(None, Action.EXPORT, patient=patient, obj=patient, detail="CDA SDM-MR 2024.01", channel="cda")
                written += 1
        self.stdout.write(f"{written} document(s) écrit(s) dans {out}" + (f", {skipped} dossier(s) fœtus non exporté(s)" if skipped else "") + ".")
