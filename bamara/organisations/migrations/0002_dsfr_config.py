from django.db import migrations


def create_config(apps, schema_editor):
    DsfrConfig = apps.get_model("dsfr", "DsfrConfig")
    for language, title, tagline in [
        ("fr", "bamara", "Banque nationale de données maladies rares"),
        ("en", "bamara", "National rare-disease data bank"),
    ]:
        DsfrConfig.objects.update_or_create(
            language=language,
            defaults={"site_title": title, "site_tagline": tagline},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0001_initial"),
        ("dsfr", "__latest__"),
    ]
    operations = [migrations.RunPython(create_config, migrations.RunPython.noop)]
