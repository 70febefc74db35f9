"""Names the knowledge base must use: contract values, files and required ids."""

PROTOCOLS = ("imap", "pop3", "smtp")
GUIDE_PROTOCOLS = PROTOCOLS + ("web",)
ENCRYPTIONS = ("ssl_tls", "starttls", "none")
DIRECTIONS = ("incoming", "outgoing")

CONTRACT_CLIENTS = ("outlook", "thunderbird", "apple_mail", "windows_mail", "other")
EXTRA_CLIENTS = ("webagent",)
ALL_CLIENTS = CONTRACT_CLIENTS + EXTRA_CLIENTS

BOUNCE_CATEGORIES = (
    "dnsbl", "relay_denied", "nul_characters", "sender_auth", "recipient_mailbox_full",
    "recipient_unknown", "message_too_large", "spam_content", "temporary", "unknown",
)

INTENTS = (
    "setup_client", "ask_server_settings", "report_bounce", "send_problem", "receive_problem",
    "login_problem", "mailbox_full", "max_message_size", "create_address", "delete_address",
    "address_rules", "change_password", "password_rules", "setup_forwarding",
    "forwarding_to_mailbox", "activation_delay", "imap_folders", "pop3_leave_copy",
    "spam_problem", "phishing", "virus_filter", "smtp_auth_info", "domain_authentication",
    "fax_attachment", "greet", "goodbye", "thank", "affirm", "deny", "inform",
    "bot_challenge", "human_handoff", "out_of_scope",
)

# file name -> top-level keys it may hold (the first one is required)
FILES = {
    "servers.yml": ("servers",),
    "clients.yml": ("clients",),
    "guides.yml": ("guides",),
    "procedures.yml": ("procedures",),
    "limits.yml": ("limits", "articles"),
    "problems.yml": ("problems",),
    "bounce_categories.yml": ("bounce_categories",),
    "policies.yml": ("policies",),
    "contacts.yml": ("contacts",),
    "contradictions.yml": ("contradictions",),
}

LIMIT_KEYS = (
    "mailbox_quota_mb", "mailbox_full_consequence", "max_message_size_mb", "activation_hours",
    "address_min_length", "address_max_length", "address_allowed_special_chars",
    "password_min_length", "password_max_length", "password_special_chars_create",
    "password_special_chars_change", "password_special_chars_safe",
)
INT_LIMIT_KEYS = (
    "mailbox_quota_mb", "max_message_size_mb", "activation_hours", "address_min_length",
    "address_max_length", "password_min_length", "password_max_length",
)

# flags a guide may state in ``settings`` (value: bool or text)
GUIDE_SETTINGS = (
    "spa",                         # "gesicherte Kennwortauthentifizierung (SPA)" (must be false)
    "smtp_auth",                   # outgoing server requires authentication
    "same_as_incoming",            # use the incoming server's user name and password
    "auth_method",                 # e.g. "Passwort, normal"
    "username",                    # what goes into the user name field
    "full_address_as_username_ok", # auto set-up puts the whole address there, that is fine
    "save_password",
    "check_on_start",
    "check_interval_minutes",
    "expunge_on_exit",
    "empty_trash_on_exit",
    "leave_copy_on_server",
    "manage_connection_automatically",
    "ssl_incoming",
    "ssl_outgoing",
    "account_type",
    "config_key",
)

REQUIRED_IDS = (
    "guide_outlook_controlpanel", "guide_outlook_check_imap", "guide_outlook_check_pop3",
    "guide_thunderbird_smtp_password", "guide_apple_mail_check_imap",
    "guide_apple_mail_check_pop3", "guide_windows_mail_sync",
    "proc_create_address", "proc_delete_address", "proc_change_password",
    "proc_setup_forwarding", "proc_forwarding_to_mailbox", "proc_pop3_leave_copy",
    "problem_bounce_554", "problem_not_receiving", "problem_forward_not_arriving",
    "problem_send_fails", "problem_login", "problem_windows_mail_no_access",
    "problem_settings_outdated", "problem_mailbox_full", "problem_fax_pdf_thunderbird",
    "policy_spam_filter", "policy_virus_filter", "policy_phishing", "info_smtp_auth",
    "info_imap_folders", "info_domain_auth", "info_encryption_ports", "info_webagent",
    "info_activation_delay", "contact_support",
    # further ids other parts of the bot rely on
    "guide_outlook_auto_setup", "guide_webagent", "info_message_size", "info_address_rules",
    "info_password_rules", "problem_outlook_data_file", "contact_portal",
)
