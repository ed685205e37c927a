"""Staff notification of messages the secretary took: e-mail (SMTP) and a webhook.

Import the parts from their modules: `settings` (the `notify:` config section, kept free of
other app imports so config.py can use it), `message` (StaffMessage and its text),
`base` (the Notifier interface and Notifications, which never raises into a call),
`smtp`, `webhook`, and `factory.build_notifications(config)`.
"""
