# Open MES — two commands: `make run` (set up and serve the demo) and `make test` (the suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate demo serve worker clean check-deploy

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo_factory

run: demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "Open MES is serving on http://$(HOST):$(PORT)/"
	@echo "  admin:        http://$(HOST):$(PORT)/admin/"
	@echo "  API docs:     http://$(HOST):$(PORT)/api/docs/"
	@echo "  API schema:   http://$(HOST):$(PORT)/api/schema/"
	@echo "  health check: http://$(HOST):$(PORT)/health/"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A mes worker --loglevel=INFO --concurrency=2

check-deploy: install
	MES_DEPLOYMENT=production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=mes.example.com \
	  DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/mes} \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
