"""The search's index of the patients by id also carries the figures' columns (PostgreSQL), so that
reports/0005 drops ``reports_patient_cover``, which had the same leading column: one index
entry less per patient written (docs/imports.md, "Session 12")."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('organisations', '0003_site_access_grant'),
        ('records', '0011_foetus_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='patient',
            name='patient_search_order',
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(fields=['id', 'birth_name', 'first_birth_given_name'], include=('sex_code', 'birth_date', 'deceased', 'death_date', 'is_foetus'), name='patient_search_order'),
        ),
    ]
