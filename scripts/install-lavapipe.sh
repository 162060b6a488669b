#!/usr/bin/env bash
# Installs a Vulkan loader and Mesa's lavapipe (a software Vulkan device) from Debian's bookworm-backports,
# so the npm `webgpu` package (Dawn) finds an adapter and the gpu backend's kernels run in CI without a
# GPU. Best effort: prints a note and exits 0 when apt-get is missing or the install fails (the GPU tests
# then say that no adapter exists and skip). Needs root (CI containers run as root).
set -u
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no apt-get; lavapipe not installed (GPU tests will skip)"
  exit 0
fi
if [ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] && ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  exit 0
fi
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" > /etc/apt/sources.list.d/bookworm-backports.list 2>/dev/null || true
fi
( apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 ) >/dev/null 2>&1 \
  || echo "note: lavapipe (mesa-vulkan-drivers from bookworm-backports) not installed; GPU tests skipped"
exit 0
