#!/bin/sh
# The AWS Lambda base image's entrypoint contract: the handler is the only argument; without
# AWS_LAMBDA_RUNTIME_API (outside Lambda) the Runtime Interface Emulator serves port 8080.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
export PYTHONPATH="/var/runtime${PYTHONPATH:+:$PYTHONPATH}"
cd "${LAMBDA_TASK_ROOT:-/var/task}" || exit 1
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  if [ ! -x /usr/local/bin/aws-lambda-rie ]; then
    echo "outside Lambda this image needs the Runtime Interface Emulator: mount it with -v PATH/aws-lambda-rie:/usr/local/bin/aws-lambda-rie" 1>&2
    exit 1
  fi
  exec /usr/local/bin/aws-lambda-rie python3 -m awslambdaric "$_HANDLER"
fi
exec python3 -m awslambdaric "$_HANDLER"
