"""The ceiling: a bare Flask app with a one-line endpoint."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    """One line of text."""
    return "Hello, world"
