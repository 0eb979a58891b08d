#!/usr/bin/env bash
# Idempotent: fetch the pinned go-nsq module (go.mod/go.sum) into the module cache.
set -eu
cd "$(dirname "$0")"
go mod download
go mod verify >/dev/null
