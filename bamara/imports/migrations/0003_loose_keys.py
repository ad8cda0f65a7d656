"""Import bookkeeping rows without foreign-key constraints in the database (the ORM applies
on_delete): their per-row checks cost a committed import ~5 µs each. Docs/imports.md, "Session 10"."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0002_equality_indexes'),
        ('organisations', '0003_site_access_grant'),
        ('records', '0008_equality_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='importedrecord',
            name='patient',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='records.patient'),
        ),
        migrations.AlterField(
            model_name='importedrecord',
            name='run',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='imports.importrun'),
        ),
        migrations.AlterField(
            model_name='importedrecord',
            name='site',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.site'),
        ),
        migrations.AlterField(
            model_name='importrow',
            name='patient',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='records.patient'),
        ),
        migrations.AlterField(
            model_name='importrow',
            name='run',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rows', to='imports.importrun'),
        ),
    ]
