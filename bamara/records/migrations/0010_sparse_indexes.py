"""Indexes of mostly empty patient columns as partial ones (the rows with a value only): a record
written no longer adds eight entries that no look-up reads. Docs/imports.md, "Session 10"."""

import django.db.models.deletion
from django.db import migrations, models

from bamara.records.schema import swap_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('organisations', '0003_site_access_grant'),
        ('records', '0009_loose_keys'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='patient',
            name='patient_cda_set_id',
        ),
        migrations.RemoveIndex(
            model_name='patient',
            name='patient_ins',
        ),
        migrations.RemoveIndex(
            model_name='patient',
            name='patient_residence_commune',
        ),
        migrations.RemoveIndex(
            model_name='patient',
            name='patient_foetus_local_id',
        ),
        # db_index=False: the plain indexes dropped by name, not by an AlterField that SQLite
        # would apply by remaking the table (and its triggers, see records/schema.py).
        migrations.SeparateDatabaseAndState(
            database_operations=[
                swap_indexes(drop=["records_patient_deceased_359fd5f6", "records_patient_opposition_f19e6a57",
                                   "records_patient_first_case_patient_id_49e8db89",
                                   "records_patient_mother_id_04acb67f"]),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='patient',
                    name='deceased',
                    field=models.BooleanField(blank=True, null=True, verbose_name='décédé'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='first_case_patient',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='relatives', to='records.patient', verbose_name='premier cas (dossier)'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='mother',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='children', to='records.patient', verbose_name='mère (dossier)'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='opposition',
                    field=models.BooleanField(default=False, verbose_name='opposition à la réutilisation des données (BNDMR)'),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(condition=models.Q(('cda_set_id', ''), _negated=True), fields=['cda_set_id'], name='patient_cda_set_id'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(condition=models.Q(('ins', ''), _negated=True), fields=['ins'], name='patient_ins'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(condition=models.Q(('residence_commune', ''), _negated=True), fields=['residence_commune'], name='patient_residence_commune'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(condition=models.Q(('foetus_local_id', ''), _negated=True), fields=['foetus_local_id'], name='patient_foetus_local_id'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(condition=models.Q(('deceased', True)), fields=['deceased'], name='patient_deceased'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(condition=models.Q(('opposition', True)), fields=['opposition'], name='patient_opposition'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(condition=models.Q(('mother__isnull', False)), fields=['mother'], name='patient_mother'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(condition=models.Q(('first_case_patient__isnull', False)), fields=['first_case_patient'], name='patient_first_case_patient'),
        ),
    ]
