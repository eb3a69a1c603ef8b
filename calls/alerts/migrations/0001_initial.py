"""The alerts' models, moved from the `calls` app with their tables (state only: nothing is
written to the database; `calls` 0027 forgets them on its side)."""

import django.db.models.deletion
from django.db import migrations, models

import calls.alerts.models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('calls', '0026_discontinued_and_next_edition_evidence'),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='AlertSubscription',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(db_index=True, max_length=254, verbose_name='email address')),
                ('language', models.CharField(choices=[('fr', 'French'), ('en', 'English')], max_length=5, verbose_name='language')),
                ('rhythm', models.CharField(choices=[('daily', 'Daily'), ('weekly', 'Weekly')], default='daily', max_length=10, verbose_name='rhythm')),
                ('query', models.CharField(blank=True, help_text='The query string of the public search (its filters).', max_length=1000, verbose_name='saved search')),
                ('secret', models.CharField(default=calls.alerts.models.new_secret, editable=False, max_length=32)),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('confirmation_sent_at', models.DateTimeField(blank=True, null=True, verbose_name='confirmation last sent at')),
                ('confirmed_at', models.DateTimeField(blank=True, null=True, verbose_name='confirmed at')),
                ('last_sent_at', models.DateTimeField(blank=True, null=True, verbose_name='last digest sent at')),
                ('call', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alert_subscriptions', to='calls.call', verbose_name='call (deadline reminder)')),
            ],
            options={
                'verbose_name': 'email alert',
                'verbose_name_plural': 'email alerts',
                'db_table': 'calls_alertsubscription',
                'ordering': ['-created_at', 'pk'],
                'permissions': [('view_subscriber_email', "Can see subscribers' addresses and export their data")],
            },
        ),
        migrations.CreateModel(
            name='SentAlert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(choices=[('new', 'Newly published'), ('opened', 'Now open'), ('deadline_14', 'Deadline within 14 days'), ('deadline_3', 'Deadline within 3 days')], max_length=20, verbose_name='reason')),
                ('sent_at', models.DateTimeField(verbose_name='sent at')),
                ('call', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='calls.call')),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sent_alerts', to='alerts.alertsubscription')),
            ],
            options={
                'verbose_name': 'sent alert',
                'verbose_name_plural': 'sent alerts',
                'db_table': 'calls_sentalert',
                'ordering': ['sent_at', 'pk'],
            },
        ),
        migrations.AddIndex(
            model_name='alertsubscription',
            index=models.Index(fields=['confirmed_at', 'last_sent_at'], name='calls_alert_confirm_a7899c_idx'),
        ),
        migrations.AddConstraint(
            model_name='alertsubscription',
            constraint=models.UniqueConstraint(condition=models.Q(('call__isnull', True)), fields=('email', 'query'), name='calls_alert_search_once_per_email'),
        ),
        migrations.AddConstraint(
            model_name='alertsubscription',
            constraint=models.UniqueConstraint(condition=models.Q(('call__isnull', False)), fields=('email', 'call'), name='calls_alert_call_once_per_email'),
        ),
        migrations.AddConstraint(
            model_name='sentalert',
            constraint=models.UniqueConstraint(fields=('subscription', 'call', 'reason'), name='calls_sentalert_once_per_reason'),
        ),
    ])]
