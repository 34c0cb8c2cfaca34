"""The ``packyard`` command: serving, and the administrator's way to set a server up."""
