# tests/lib-build.sh: what the build tests and bench share (sourced).
#   need_base      $base: the cached Debian base (make base), or exit 77
#   build_job FILE OUTDIR MATRIX FORMAT SIZE
#                  a job that builds a bootable image per instance from the
#                  base; callers append steps or top-level keys to FILE
need_base() {
  base=$(runner/build-base.sh --path)
  if [ ! -s "$base" ]; then
    echo "no Debian base at $base (make base needs the Debian mirror)" >&2; exit 77
  fi
}

build_job() {
  cat > "$1" <<EOF2
name: $(basename "$1" .yaml)
matrix: $3
base: {tar: $base}
build: {size: $5, format: $4, output: "$2/{{name}}.$4"}
timeout: 20m
steps:
  - partition
  - filesystems: {label: "{{name}}"}
  - unpack
  - fstab
  - hostname: "{{name}}.example.com"
  - machine_id: reset
  - bootloader
EOF2
}
