FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir '.[server]'
ENV DJANGO_SETTINGS_MODULE=webhooks_project.settings
EXPOSE 8000
