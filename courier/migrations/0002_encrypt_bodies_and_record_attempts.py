import json

import django.db.models.deletion
import porta.core.ids
from django.db import migrations, models


def seal_existing_bodies(apps, schema_editor):
    """Encrypt the bodies stored in plaintext so far (same format as Message.seal_body)."""
    from keys import crypto

    Message = apps.get_model("courier", "Message")
    for message in Message.objects.exclude(body_text="", body_html="").iterator(chunk_size=500):
        plaintext = json.dumps({"text": message.body_text, "html": message.body_html}).encode()
        message.kek_id, message.body_ciphertext = crypto.encrypt(
            plaintext, associated_data=f"courier.message:{message.id}".encode()
        )
        message.save(update_fields=["kek_id", "body_ciphertext"])


class Migration(migrations.Migration):

    dependencies = [
        ('courier', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='body_ciphertext',
            field=models.BinaryField(default=bytes),
        ),
        migrations.AddField(
            model_name='message',
            name='kek_id',
            field=models.CharField(blank=True, default='', max_length=16),
        ),
        migrations.RunPython(seal_existing_bodies, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(
            model_name='message',
            name='body_html',
        ),
        migrations.RemoveField(
            model_name='message',
            name='body_text',
        ),
        migrations.CreateModel(
            name='Attempt',
            fields=[
                ('id', models.UUIDField(default=porta.core.ids.uuid7, editable=False, primary_key=True, serialize=False)),
                ('number', models.PositiveIntegerField()),
                ('started_at', models.DateTimeField()),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('outcome', models.CharField(blank=True, choices=[('sent', 'Sent'), ('failed', 'Failed'), ('interrupted', 'Interrupted')], default='', max_length=20)),
                ('error', models.TextField(blank=True, default='')),
                ('message', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='courier.message')),
            ],
            options={
                'ordering': ['message', 'number'],
                'constraints': [models.UniqueConstraint(fields=('message', 'number'), name='courier_attempt_number_uniq')],
            },
        ),
    ]
