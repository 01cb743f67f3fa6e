import os

from django.core.wsgi import get_wsgi_application

from porta.core.config import WSGI_EXIT_STATUS, load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "porta.settings")
# A bad variable stops the server with one line (and gunicorn with it), never a worker traceback.
load_settings_or_exit(WSGI_EXIT_STATUS)
application = get_wsgi_application()
