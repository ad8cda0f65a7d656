"""One index per column looked up by equality: without the varchar_pattern_ops twins PostgreSQL
adds for db_index=True, nor the foreign-key indexes a composite index already leads (fewer
index entries written per record; see docs/imports.md, "Session 8")."""

import django.db.models.deletion
from django.db import migrations, models

from bamara.records.schema import swap_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('organisations', '0003_site_access_grant'),
        ('records', '0007_clinicalsign_code_diagnosis'),
        ('reports', '0002_record_covering_indexes'),  # the covering indexes that take over
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                swap_indexes(
                    drop=[
                        # varchar_pattern_ops twins (PostgreSQL), read by no query
                        "records_patient_cda_set_id_7bf7e959_like", "records_patient_ins_c6bf322d_like",
                        "records_patient_ipp_b0337763_like", "records_patient_national_id_e4859ee3_like",
                        "records_patient_residence_commune_b2b6d89c_like",
                        "records_patient_foetus_local_id_a9657d58_like",
                        "records_activity_context_code_2bbf893f_like",
                        "records_diagnosis_disease_code_93baf6a3_like",
                        "records_diagnosis_status_code_45c09265_like",
                        "records_patientname_phonetic_4a4fb265_like",
                        # foreign keys already leading a composite index
                        "records_patient_hospital_id_de752ecb", "records_activity_patient_id_f77a43db",
                        "records_activity_site_id_525a3513", "records_careepisode_patient_id_b450f94f",
                        "records_careepisode_site_id_aee94d20", "records_patientname_site_id_a8819e84",
                        "records_diagnosis_patient_id_710f5341",  # reports_diagnosis_cover leads with it
                        "records_act_site_id_ad15f6_idx",  # (site_id, date): reports_activity_site_date_cover
                    ],
                    rename=[
                        ("records_patient", "cda_set_id", "records_patient_cda_set_id_7bf7e959", "patient_cda_set_id"),
                        ("records_patient", "ins", "records_patient_ins_c6bf322d", "patient_ins"),
                        ("records_patient", "ipp", "records_patient_ipp_b0337763", "patient_ipp"),
                        ("records_patient", "national_id", "records_patient_national_id_e4859ee3", "patient_national_id"),
                        ("records_patient", "residence_commune", "records_patient_residence_commune_b2b6d89c",
                         "patient_residence_commune"),
                        ("records_patient", "foetus_local_id", "records_patient_foetus_local_id_a9657d58",
                         "patient_foetus_local_id"),
                        ("records_activity", "context_code", "records_activity_context_code_2bbf893f", "activity_context"),
                        ("records_diagnosis", "disease_code", "records_diagnosis_disease_code_93baf6a3", "diagnosis_disease"),
                        ("records_diagnosis", "status_code", "records_diagnosis_status_code_45c09265", "diagnosis_status"),
                        ("records_patientname", "phonetic", "records_patientname_phonetic_4a4fb265", "patientname_phonetic"),
                    ],
                ),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name='activity', name='records_act_site_id_ad15f6_idx'),
                migrations.AlterField(
                    model_name='diagnosis',
                    name='patient',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name='diagnoses', to='records.patient'),
                ),
                migrations.AlterField(
                    model_name='activity',
                    name='context_code',
                    field=models.CharField(blank=True, default='', max_length=32, verbose_name="contexte de l'activité"),
                ),
                migrations.AlterField(
                    model_name='activity',
                    name='patient',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='activities', to='records.patient'),
                ),
                migrations.AlterField(
                    model_name='activity',
                    name='site',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='activities', to='organisations.site'),
                ),
                migrations.AlterField(
                    model_name='careepisode',
                    name='patient',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='care_episodes', to='records.patient'),
                ),
                migrations.AlterField(
                    model_name='careepisode',
                    name='site',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='care_episodes', to='organisations.site'),
                ),
                migrations.AlterField(
                    model_name='diagnosis',
                    name='disease_code',
                    field=models.CharField(blank=True, default='', max_length=16, verbose_name='maladie rare (ORPHA) ou maladie complexe (CIM-10)'),
                ),
                migrations.AlterField(
                    model_name='diagnosis',
                    name='status_code',
                    field=models.CharField(blank=True, default='', max_length=16, verbose_name='statut actuel du diagnostic'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='cda_set_id',
                    field=models.CharField(blank=True, max_length=128, verbose_name='setId du document CDA'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='foetus_local_id',
                    field=models.CharField(blank=True, max_length=64, verbose_name='identifiant local du fœtus'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='hospital',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='patients', to='organisations.hospital'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='ins',
                    field=models.CharField(blank=True, max_length=15, verbose_name='matricule INS'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='ipp',
                    field=models.CharField(blank=True, max_length=64, verbose_name='IPP'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='national_id',
                    field=models.CharField(blank=True, max_length=20, verbose_name='identifiant national maladies rares'),
                ),
                migrations.AlterField(
                    model_name='patient',
                    name='residence_commune',
                    field=models.CharField(blank=True, max_length=5, verbose_name='commune de résidence (INSEE)'),
                ),
                migrations.AlterField(
                    model_name='patientname',
                    name='phonetic',
                    field=models.CharField(max_length=32),
                ),
                migrations.AlterField(
                    model_name='patientname',
                    name='site',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.site'),
                ),
                migrations.AddIndex(
                    model_name='activity',
                    index=models.Index(fields=['context_code'], name='activity_context'),
                ),
                migrations.AddIndex(
                    model_name='diagnosis',
                    index=models.Index(fields=['disease_code'], name='diagnosis_disease'),
                ),
                migrations.AddIndex(
                    model_name='diagnosis',
                    index=models.Index(fields=['status_code'], name='diagnosis_status'),
                ),
                migrations.AddIndex(
                    model_name='patient',
                    index=models.Index(fields=['cda_set_id'], name='patient_cda_set_id'),
                ),
                migrations.AddIndex(
                    model_name='patient',
                    index=models.Index(fields=['ins'], name='patient_ins'),
                ),
                migrations.AddIndex(
                    model_name='patient',
                    index=models.Index(fields=['ipp'], name='patient_ipp'),
                ),
                migrations.AddIndex(
                    model_name='patient',
                    index=models.Index(fields=['national_id'], name='patient_national_id'),
                ),
                migrations.AddIndex(
                    model_name='patient',
                    index=models.Index(fields=['residence_commune'], name='patient_residence_commune'),
                ),
                migrations.AddIndex(
                    model_name='patient',
                    index=models.Index(fields=['foetus_local_id'], name='patient_foetus_local_id'),
                ),
                migrations.AddIndex(
                    model_name='patientname',
                    index=models.Index(fields=['phonetic'], name='patientname_phonetic'),
                ),
            ],
        ),
    ]
