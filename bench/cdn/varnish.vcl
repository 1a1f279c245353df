vcl 4.1;
# Varnish in front of the bench origin; cdn.py fills in {{HOST}} and {{PORT}}.
backend origin { .host = "{{HOST}}"; .port = "{{PORT}}"; }
