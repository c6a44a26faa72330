# Citizen Score bot image. Build: docker build -t citizen-score .  Run: see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Fonts for the score cards and charts: Latin, Chinese and Japanese names, and emoji.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first (pinned), so code changes do not reinstall them.
COPY pyproject.toml setup.py constraints.txt README.md ./
COPY game/__init__.py game/__init__.py
COPY bot/__init__.py bot/__init__.py
COPY web/__init__.py web/__init__.py
COPY data/__init__.py data/__init__.py
RUN pip install -c constraints.txt .

COPY game game
COPY bot bot
COPY web web
COPY data data
RUN pip install --no-deps . && useradd --create-home citizen && mkdir -p /app/var && chown citizen /app/var
USER citizen

# The public pages, when WEB_PORT is set (docker-compose.yml sets 8080).
EXPOSE 8080
# The bot migrates the database itself when it starts.
CMD ["citizen-score", "run"]
