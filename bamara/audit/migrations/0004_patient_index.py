"""A patient's trail through (patient_id, at) alone."""

from django.db import migrations, models

from bamara.records.schema import swap_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_grant_revoke_actions'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                swap_indexes(drop=["audit_auditevent_patient_id_82c45eaf"]),  # leads (patient_id, at)
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='auditevent',
                    name='patient_id',
                    field=models.BigIntegerField(null=True, verbose_name='dossier patient (id)'),
                ),
            ],
        ),
    ]
