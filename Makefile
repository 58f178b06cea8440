# epolltrace build.  `make` builds ./epolltrace; `make check` runs every
# test; both first install whatever Debian packages are missing.

OUT        := build
CLANG      ?= clang
BPFTOOL    ?= bpftool
CC         ?= gcc
ARCH       := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
PREFIX     ?= /usr/local
# The version, here and nowhere else.  --version and a recording's header
# say it, with the git commit when built from a git checkout.
VERSION    := 0.5.0
GIT_REV    := $(if $(wildcard .git),$(shell git describe --always --dirty 2>/dev/null))
VERSION_STR := $(VERSION)$(if $(GIT_REV), (git $(GIT_REV)))
MANDIR     ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions

# Debian 12 packages: what building needs, and what the tests need on top.
BUILD_DEPS := clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libncurses-dev \
	      libdw-dev pkg-config make gcc gettext
TEST_DEPS  := qemu-system-x86 busybox-static cpio python3 tmux procps iproute2 \
	      redis-server redis-tools libclang-rt-14-dev man-db nginx debuginfod nodejs \
	      prometheus python3-prometheus-client wrk
# ... and what `make bench` needs on top (tests/bench/): a second real epoll
# server with its load generator, and the tools a user would compare with.
BENCH_DEPS := nginx wrk bpftrace linux-perf strace tmux procps python3 \
	      redis-server redis-tools

LIBBPF_CFLAGS := $(shell pkg-config --cflags libbpf 2>/dev/null)
LIBBPF_LIBS   := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
LIBBPF_STATIC := $(shell pkg-config --static --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
CURSES_LIBS   := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
CURSES_STATIC := $(shell pkg-config --static --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
# elfutils' libdw: the kernel's DWARF for `epolltrace sites` (cli/kernel/sites.c)
DW_LIBS       := $(shell pkg-config --libs libdw 2>/dev/null || echo -ldw -lelf)
DW_STATIC     := $(shell pkg-config --static --libs libdw 2>/dev/null || echo -ldw -lelf -lz -llzma -lbz2)

CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror
CLI_DIRS := cli cli/common cli/kernel cli/model cli/views cli/recordings cli/workloads
CLI_INC  := $(addprefix -I,$(CLI_DIRS))
LOCALEDIR  ?= $(PREFIX)/share/locale
CPPFLAGS := -Iinclude $(CLI_INC) -I$(OUT) -DEPOLLTRACE_VERSION='"$(VERSION_STR)"' -D_GNU_SOURCE \
	    -DET_LOCALEDIR='"$(LOCALEDIR)"'
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Iinclude -Ibpf

CLI_SRCS := $(wildcard $(addsuffix /*.c,$(CLI_DIRS)))
CLI_OBJS := $(patsubst cli/%.c,$(OUT)/cli/%.o,$(CLI_SRCS))
BPF_SRCS := bpf/epolltrace.bpf.c
BPF_HDRS := $(wildcard bpf/*.h) include/epolltrace.h

ifeq ($(V),1)
Q :=
else
Q := @
endif

.DELETE_ON_ERROR:
.PHONY: mo all deps test-deps bench-deps bench check install uninstall clean static demo fuzz pot update-po \
	FORCE

all: deps epolltrace mo

# Install only what is missing; one apt-get update, only when needed.
define install_missing
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || \
			missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
endef

deps:
	$(call install_missing,$(BUILD_DEPS))

test-deps: deps
	$(call install_missing,$(TEST_DEPS))

$(OUT)/epolltrace.bpf.o: $(BPF_SRCS) $(BPF_HDRS) | $(OUT)
	@echo "  BPF      $@"
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(OUT)/epolltrace.skel.h: $(OUT)/epolltrace.bpf.o
	@echo "  SKEL     $@"
	$(Q)$(BPFTOOL) gen skeleton $< name epolltrace_bpf > $@

$(OUT)/cli/%.o: cli/%.c $(wildcard $(addsuffix /*.h,$(CLI_DIRS))) include/epolltrace.h $(OUT)/epolltrace.skel.h | $(OUT)
	@mkdir -p $(dir $@)
	@echo "  CC       $@"
	$(Q)$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS) $(LIBBPF_CFLAGS) -c $< -o $@

epolltrace: $(CLI_OBJS)
	@echo "  LINK     $@"
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(DW_LIBS) $(LIBBPF_LIBS) $(CURSES_LIBS) -lz -lpthread

# The message catalogues (GNU gettext, one domain: cli/common/i18n.h).
# `make pot` regenerates the template from the sources; each cli/po/LL.po
# becomes build/locale/LL/LC_MESSAGES/epolltrace.mo, where ./epolltrace
# from this checkout finds it (cli/common/lang.c).
PO_FILES := $(wildcard cli/po/*.po)
MO_FILES := $(patsubst cli/po/%.po,$(OUT)/locale/%/LC_MESSAGES/epolltrace.mo,$(PO_FILES))
XGETTEXT_FLAGS := --language=C --keyword=_ --keyword=N_ --keyword=C_:1c,2 --from-code=UTF-8 \
	--package-name=epolltrace --package-version=$(VERSION) --add-comments=TRANSLATORS: \
	--sort-by-file --add-location=file

mo: $(MO_FILES)

$(OUT)/locale/%/LC_MESSAGES/epolltrace.mo: cli/po/%.po | $(OUT)
	@mkdir -p $(dir $@)
	@echo "  MSGFMT   $@"
	$(Q)msgfmt --check -o $@ $<

pot:
	@echo "  XGETTEXT cli/po/epolltrace.pot"
	$(Q)xgettext $(XGETTEXT_FLAGS) -o cli/po/epolltrace.pot $(sort $(shell find cli -name '*.c'))

# After `make pot`: the new messages into every catalogue, to translate
# (tests/i18n.sh fails while one is missing or fuzzy).
update-po: pot
	$(Q)for po in $(PO_FILES); do msgmerge --quiet --update --backup=none \
		--add-location=file $$po cli/po/epolltrace.pot || exit 1; done

# A static binary for minimal VM guests (tests/vm).
$(OUT)/epolltrace.static: $(CLI_OBJS)
	@echo "  LINK     $@"
	$(Q)$(CC) $(CFLAGS) -static $^ -o $@ $(DW_STATIC) $(LIBBPF_STATIC) $(CURSES_STATIC) -lz -lpthread

static: deps $(OUT)/epolltrace.static

$(OUT):
	@mkdir -p $(OUT)

# The main job: the classroom workload in the TUI (on a terminal; piped,
# the text stream).  q quits.
demo: all
	./epolltrace demo

# The binary, the man page (with the version in its footer) and the bash
# completion.  DESTDIR for staging; `man` finds the page through MANPATH
# or, for PREFIX/bin on PATH, through man-db's own search.
install: epolltrace mo
	install -D -m 0755 epolltrace $(DESTDIR)$(PREFIX)/bin/epolltrace
	for mo in $(MO_FILES); do \
		l=$${mo#$(OUT)/locale/}; \
		install -D -m 0644 $$mo $(DESTDIR)$(LOCALEDIR)/$$l || exit 1; \
	done
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR)
	sed '/^\.TH /s/"epolltrace"/"epolltrace $(VERSION)"/' docs/epolltrace.8 \
		>$(DESTDIR)$(MANDIR)/man8/epolltrace.8
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/epolltrace.8
	install -m 0644 docs/epolltrace.bash-completion $(DESTDIR)$(COMPLETIONDIR)/epolltrace

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/epolltrace $(DESTDIR)$(MANDIR)/man8/epolltrace.8 \
		$(DESTDIR)$(COMPLETIONDIR)/epolltrace \
		$(patsubst $(OUT)/locale/%,$(DESTDIR)$(LOCALEDIR)/%,$(MO_FILES))

# What prints the version is rebuilt when it changes (a commit, an edit):
# the file is rewritten only then.
$(OUT)/version.txt: FORCE | $(OUT)
	@echo '$(VERSION_STR)' | cmp -s - $@ || echo '$(VERSION_STR)' >$@
$(OUT)/cli/help.o $(OUT)/cli/recordings/recording.o: $(OUT)/version.txt
FORCE:

# The recording reader under libFuzzer (clang's -fsanitize=fuzzer, from
# libclang-rt-14-dev).  `make check` runs it briefly; `make fuzz` for
# FUZZ_TIME seconds on the recordings the last `make check` made (or one
# recorded now).
FUZZ_TIME ?= 300
FUZZ_SRCS := cli/recordings/rec_read.c cli/kernel/decode.c cli/common/grow.c
$(OUT)/fuzz_reader: tests/fuzz_reader.c $(FUZZ_SRCS) cli/recordings/recording.h \
		    cli/recordings/rec_format.h cli/common/event.h include/epolltrace.h | $(OUT)
	@echo "  FUZZ     $@"
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Wall -Wextra -Werror -Iinclude $(CLI_INC) \
		tests/fuzz_reader.c $(FUZZ_SRCS) -lz -o $@

fuzz: test-deps epolltrace $(OUT)/fuzz_reader
	@mkdir -p $(OUT)/fuzz-corpus
	@cp $(OUT)/test/fuzz/corpus/* $(OUT)/fuzz-corpus/ 2>/dev/null || true
	@if [ -z "$$(ls $(OUT)/fuzz-corpus)" ]; then \
		./epolltrace record --force -o $(OUT)/fuzz-corpus/seed.etr -- \
			./epolltrace demo --scenario all >/dev/null; fi
	$(OUT)/fuzz_reader -max_total_time=$(FUZZ_TIME) -max_len=65536 -timeout=120 -artifact_prefix=$(OUT)/ \
		$(OUT)/fuzz-corpus

bench-deps: deps
	$(call install_missing,$(BENCH_DEPS))

# The synthetic epoll load of the capacity and footprint benchmarks.
$(OUT)/bench/epoll_load: tests/bench/epoll_load.c | $(OUT)
	@mkdir -p $(dir $@)
	@echo "  CC       $@"
	$(Q)$(CC) -O2 -g $(WARN) -D_GNU_SOURCE $< -o $@ -lpthread

# The tracers' attach points, empty programs on them (the floor), per-program
# run time; static builds of both for the QEMU guest of the inline row.
$(OUT)/bench/bpfbench: tests/bench/bpfbench.c | $(OUT)
	@mkdir -p $(dir $@)
	@echo "  CC       $@"
	$(Q)$(CC) -O2 -g $(WARN) -D_GNU_SOURCE $(LIBBPF_CFLAGS) $< -o $@ $(LIBBPF_LIBS)

$(OUT)/bench/%.static: tests/bench/%.c | $(OUT)
	@mkdir -p $(dir $@)
	@echo "  CC       $@"
	$(Q)$(CC) -O2 $(WARN) -D_GNU_SOURCE $(LIBBPF_CFLAGS) -static $< -o $@ $(LIBBPF_STATIC) -lpthread

# The bench build of STEPS (tests/bench/bench.py): the same sources with
# -DET_BENCH, whose BPF object has the bench_cut knob (bpf/common.bpf.h)
# that stops a handler before a given step.  Never installed.
STEPS_OUT  := $(OUT)/bench/steps
STEPS_OBJS := $(patsubst cli/%.c,$(STEPS_OUT)/cli/%.o,$(CLI_SRCS))

$(STEPS_OUT)/epolltrace.bpf.o: $(BPF_SRCS) $(BPF_HDRS)
	@mkdir -p $(dir $@)
	@echo "  BPF      $@"
	$(Q)$(CLANG) $(BPF_CFLAGS) -DET_BENCH -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(STEPS_OUT)/epolltrace.skel.h: $(STEPS_OUT)/epolltrace.bpf.o
	$(Q)$(BPFTOOL) gen skeleton $< name epolltrace_bpf > $@

$(STEPS_OUT)/cli/%.o: cli/%.c $(wildcard $(addsuffix /*.h,$(CLI_DIRS))) include/epolltrace.h $(STEPS_OUT)/epolltrace.skel.h
	@mkdir -p $(dir $@)
	@echo "  CC       $@"
	$(Q)$(CC) $(CFLAGS) $(WARN) -DET_BENCH -I$(STEPS_OUT) $(CPPFLAGS) $(LIBBPF_CFLAGS) -c $< -o $@

$(STEPS_OUT)/epolltrace: $(STEPS_OBJS)
	@echo "  LINK     $@"
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(DW_LIBS) $(LIBBPF_LIBS) $(CURSES_LIBS) -lz -lpthread

BENCH_STATIC := $(OUT)/bench/epoll_load.static $(OUT)/bench/bpfbench.static \
	$(OUT)/epolltrace.static

# Overhead, bystander tax, floor, BPF cost, capacity, footprint, reader,
# recordings, inline mode in a QEMU guest: one table on stdout (details in
# build/bench/).  Not part of `make check`; under 25 minutes
# (docs/benchmark.md; BENCH_ARGS="--only floor,bystander" runs a part).
bench: bench-deps epolltrace $(OUT)/bench/epoll_load $(OUT)/bench/bpfbench $(STEPS_OUT)/epolltrace
	@# only the guest needs the static builds: without them it says why and is skipped
	$(Q)$(MAKE) --no-print-directory $(BENCH_STATIC) || \
		echo "bench: the static builds failed; the inline (guest) section will be skipped"
	$(Q)tests/bench/bench.py --epolltrace ./epolltrace --load $(OUT)/bench/epoll_load \
		--bpfbench $(OUT)/bench/bpfbench --steps-epolltrace $(STEPS_OUT)/epolltrace \
		--out $(OUT)/bench $(BENCH_ARGS)

check: test-deps epolltrace mo $(OUT)/epolltrace.static
	$(Q)tests/run-all.sh

clean:
	rm -rf $(OUT) epolltrace
