"""Import bookkeeping: the source key's unique index without its varchar_pattern_ops twin; the
run's rows through one_import_row (run, number)."""

import django.db.models.deletion
from django.db import migrations, models

from bamara.records.schema import swap_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0001_initial'),
        ('organisations', '0003_site_access_grant'),
        ('records', '0007_clinicalsign_code_diagnosis'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                swap_indexes(
                    drop=["imports_importedrecord_key_0c82dbb2_like",  # varchar_pattern_ops twin
                          "imports_importrow_run_id_d16073d2"],  # leads one_import_row (run, number)
                    rename_constraints=[("imports_importedrecord", "imports_importedrecord_key_key",
                                         "importedrecord_one_key")],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='importedrecord',
                    name='key',
                    field=models.CharField(max_length=200),
                ),
                migrations.AlterField(
                    model_name='importrow',
                    name='run',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rows', to='imports.importrun'),
                ),
                migrations.AddConstraint(
                    model_name='importedrecord',
                    constraint=models.UniqueConstraint(fields=('key',), name='importedrecord_one_key'),
                ),
            ],
        ),
    ]
