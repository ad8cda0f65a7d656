"""Connected mode: receive the national CDA R2 SDM-MR documents of hospital EHRs (HTTPS
endpoint, MSSanté mailbox, command line), reconcile them into the records, acknowledge them,
and produce CDA SDM-MR 2024.01 documents back. See docs/connected-mode.md."""
