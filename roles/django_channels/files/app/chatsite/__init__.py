"""Sample Django Channels chat site deployed by djangostack.channels."""

try:  # PyMySQL is pure Python: no compiler or client library needed in the image.
    import pymysql

    pymysql.install_as_MySQLdb()
except ImportError:  # pragma: no cover - only SQLite is used then
    pass
