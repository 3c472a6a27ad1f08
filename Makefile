# djangostack.channels: `make deploy` deploys the stack on this machine, `make test` proves it.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Controller tools and the sample app are pinned here.
REQUIREMENTS := requirements-dev.txt roles/django_channels/files/app/requirements.txt
# The checkout is the collection: this link makes its roles and playbooks resolve by their FQCN.
COLLECTION_LINK := collections/ansible_collections/djangostack/channels

.PHONY: help deploy test bench bench-tools venv engine images browser lint sanity unit-test build-collection molecule matrix destroy clean

help:
	@echo "make deploy   install what is missing, deploy the stack on this machine, print its URL"
	@echo "make test     lint, sanity, unit tests, collection build, Molecule scenarios, ansible-core matrix"
	@echo "make destroy  remove this machine's deployment (data volumes kept)"
	@echo "make bench    benchmark against docker-compose, the bare app server and the previous release"

$(BIN)/.installed: $(REQUIREMENTS)
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

venv: $(BIN)/.installed $(COLLECTION_LINK)

engine:
	scripts/ensure-docker.sh

images: engine
	scripts/build-local-images.sh

browser:
	scripts/ensure-browser.sh

deploy: venv images
	scripts/local-secrets.sh
	$(BIN)/ansible-playbook -i inventories/local site.yml

lint: venv
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/role_docs.py --check

# ansible-test sanity, the gate Galaxy and Automation Hub hold collections to (scripts/sanity.sh).
sanity: venv
	scripts/sanity.sh

# The bad-input, lock and container tests run the site playbook against this machine's engine,
# with the local images.
unit-test: venv engine images
	$(BIN)/pytest tests

# Build the tarball, install it into a temporary path and use it from there, away from the checkout.
build-collection: venv
	rm -rf build && mkdir -p build
	$(BIN)/ansible-galaxy collection build --output-path build .
	$(BIN)/ansible-galaxy collection install --offline --no-deps --force -p build/collections build/djangostack-channels-*.tar.gz
	cd build && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections \
	  $(BIN)/ansible-doc -t role djangostack.channels.nginx | grep -q nginx_upstreams
	cd build && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections \
	  $(BIN)/ansible-doc -t filter djangostack.channels.setting_errors | grep -q secret_min_length
	cd build && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections \
	  $(BIN)/ansible-playbook --syntax-check -i $(CURDIR)/inventories/local djangostack.channels.site \
	  djangostack.channels.backup djangostack.channels.restore djangostack.channels.destroy

molecule: venv images browser
	$(BIN)/molecule test -s default
	scripts/assert-stack-gone.sh molecule-default
	$(BIN)/molecule test -s resilience
	scripts/assert-stack-gone.sh molecule-resilience
	test ! -e /var/backups/molecule-resilience
	$(BIN)/molecule test -s cluster
	scripts/assert-stack-gone.sh molecule-cluster
	$(BIN)/molecule test -s apps
	for project in tutorial notes board jobs; do scripts/assert-stack-gone.sh apps-$$project; done
	test ! -e /var/backups/apps-board

# Every ansible-core release the collection supports (meta/runtime.yml): a converge and a
# 0-changed re-run of the single-host stack with each (scripts/matrix.sh); the full suite above runs
# on the newest.
matrix: venv images
	scripts/matrix.sh

# Lint, sanity, the unit tests, the collection build and the matrix (stacks of their own names and
# ports) run side by side; then the Molecule scenarios, one after another, alone on the Docker
# engine (resilience restarts it).
test:
	$(MAKE) --no-print-directory --output-sync=target -j3 lint sanity unit-test build-collection browser matrix
	$(MAKE) --no-print-directory molecule

# Benchmark against docker-compose, the bare app server and the previous release (bench/README.md).
bench: venv engine images bench-tools
	scripts/local-secrets.sh
	$(BIN)/python bench/run.py

# wrk and docker-compose from Debian's packages, when missing.
bench-tools:
	@command -v wrk >/dev/null && command -v docker-compose >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk docker-compose >/dev/null)

destroy: venv
	$(BIN)/ansible-playbook -i inventories/local playbooks/destroy.yml

clean:
	rm -rf build .cache
