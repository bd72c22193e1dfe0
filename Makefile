# Thin wrapper over Meson: the verbs a newcomer and CI use.
BUILD      ?= build
BUILD_SAN  ?= build-san
PREFIX     ?= /usr/local

.PHONY: all deps build guest check demo bench faults install deb clean

all: build

deps:
	@tools/deps.sh

$(BUILD)/build.ninja:
	@meson setup $(BUILD) >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null || ninja -C $(BUILD)

$(BUILD_SAN)/build.ninja:
	@CC=clang meson setup $(BUILD_SAN) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dfuzz=true >/dev/null

build-san: deps $(BUILD_SAN)/build.ninja
	@ninja -C $(BUILD_SAN) >/dev/null || ninja -C $(BUILD_SAN)

# The guest VM image (Debian cloud kernel + busybox initramfs), built once and
# cached under /var/cache/godwit/guest/<kernel-version>/ (tools/guest/README.md).
guest: deps
	@tools/guest/build.sh >/dev/null

# Every test: unit, BPF, API, fuzz (brief) and end-to-end; the sanitizer build
# runs the unit, API and fuzz suites again under ASan+UBSan.
check: build build-san guest
	@tests/run-all $(BUILD) $(BUILD_SAN)

demo: build guest
	@$(BUILD)/godwit lab demo

bench: build guest
	@bench/run $(BUILD)

# The whole fault matrix of docs/MIGRATION.md, three times in a row (a real VM
# migrating under every fault; ~40 min): bench/results/ and a table.
faults: build guest
	@bench/faults.sh $(BUILD)

# The programs, their systemd units and settings files, man pages and bash
# completion under $(DESTDIR)$(PREFIX) (units read $(PREFIX)/etc/default/*
# unless PREFIX is /usr); no lab tools.
install: build
	@meson configure $(BUILD) -Dprefix=$(PREFIX) >/dev/null
	@meson install -C $(BUILD) --destdir "$(DESTDIR)" >/dev/null
	@echo "installed godwit, godwitd, godwit-agent, godwit-probe, their units, man pages and completion under $(DESTDIR)$(PREFIX)"

# The Debian package, built from a copy of the working tree in build-deb/
# (dpkg-buildpackage writes beside the source), checked by lintian.
DEB_DIR ?= build-deb
DEB_SRC = $(DEB_DIR)/godwit-0.1.0
deb: deps
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	@git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t $(DEB_SRC)
	@cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b >../dpkg-buildpackage.log 2>&1 || \
		{ tail -n 30 ../dpkg-buildpackage.log; exit 1; }
	@lintian --allow-root --fail-on error,warning $(DEB_DIR)/godwit_0.1.0_*.deb
	@ls $(DEB_DIR)/godwit_0.1.0_*.deb

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
