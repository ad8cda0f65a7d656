"""The activities' and diagnoses' foetus as partial indexes (the rows of a foetus only): every
activity and diagnosis written no longer adds an index entry of NULL that no look-up reads
(docs/imports.md, "Session 12"). As records/0010 did for the patient's columns."""

import django.db.models.deletion
from django.db import migrations, models

from bamara.records.schema import swap_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0010_sparse_indexes'),
    ]

    operations = [
        # db_index=False: the plain indexes dropped by name, not by an AlterField that SQLite
        # would apply by remaking the table (and its triggers, see records/schema.py).
        migrations.SeparateDatabaseAndState(
            database_operations=[
                swap_indexes(drop=["records_activity_foetus_id_064664e8", "records_diagnosis_foetus_id_f79f3c81"]),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='activity',
                    name='foetus',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='activities', to='records.foetus', verbose_name='fœtus concerné'),
                ),
                migrations.AlterField(
                    model_name='diagnosis',
                    name='foetus',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='diagnoses', to='records.foetus', verbose_name='fœtus concerné'),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='activity',
            index=models.Index(condition=models.Q(('foetus__isnull', False)), fields=['foetus'], name='activity_foetus'),
        ),
        migrations.AddIndex(
            model_name='diagnosis',
            index=models.Index(condition=models.Q(('foetus__isnull', False)), fields=['foetus'], name='diagnosis_foetus'),
        ),
    ]
