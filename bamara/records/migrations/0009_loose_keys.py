"""Name search keys: no foreign-key constraints in the database (the ORM deletes them with their
patient or site), and one index on key, varchar_pattern_ops, for equality and prefix (the plain
twin dropped, the pattern one renamed: nothing rebuilt). Docs/imports.md, "Session 10"."""

import django.db.models.deletion
from django.db import migrations, models

from bamara.records.schema import swap_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('organisations', '0003_site_access_grant'),
        ('records', '0008_equality_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                # On SQLite, where there is no pattern twin, a plain index named patientname_key.
                swap_indexes(
                    drop=["records_patientname_key_84d96fbf"],
                    rename=[("records_patientname", "key", "records_patientname_key_84d96fbf_like",
                             "patientname_key")],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='patientname',
                    name='key',
                    field=models.CharField(max_length=100),
                ),
                migrations.AddIndex(
                    model_name='patientname',
                    index=models.Index(fields=['key'], name='patientname_key', opclasses=['varchar_pattern_ops']),
                ),
            ],
        ),
        migrations.AlterField(
            model_name='patientname',
            name='patient',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='name_keys', to='records.patient'),
        ),
        migrations.AlterField(
            model_name='patientname',
            name='site',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.site'),
        ),
    ]
