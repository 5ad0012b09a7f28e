FROM python:3.12-slim
WORKDIR /app
# .dockerignore keeps .env, .venv, var/, tests and the benchmark out of the image.
COPY . .
RUN pip install --no-cache-dir '.[server]' \
 && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput
ENV DJANGO_SETTINGS_MODULE=webhooks_project.settings \
    PYTHONUNBUFFERED=1
EXPOSE 8000
