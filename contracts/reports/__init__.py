"""Reports: how a run's outcome is shown. JUnit XML for CI, Markdown and HTML for people, and curl
lines that reproduce an exchange. `write.write_reports` writes them into a directory.
"""
