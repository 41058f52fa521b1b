# The lean Lambda image: a trained model converted at build time, served by onnxruntime.
#
# Build it with `make image MODEL=path/to/model TAG=name [ARCH=arm64]` (lambda-tabular image),
# which stages the build context: the requirements installed on the host for the base image's
# Python and architecture (site/: pip --target from wheels fetched on the host, so no network
# and no pip inside the build), convert/, runtime/ and the model in input/. The classic builder
# is enough: no RUN --mount, no buildx. For ARCH=arm64 the build runs with --platform
# linux/arm64 on an arm64 base. On an x86_64 machine every RUN below is then emulated, and a
# RUN cannot hide the host's CPU lists, which the emulated onnxruntime fails on: `make image`
# converts the model first in an emulated container of the same base that hides them, so that
# the parity gate still proves it on arm64's own Python and onnxruntime, and passes
# CONVERTED=folder, which the convert stage takes as it is.

# Pinned by tag, not digest: no registry answers where this project is built, so no digest of
# it could be read (deploy/package/base_image.py AWS_DIGESTS); `make image` passes the base.
ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.13

# --- convert: model -> verified ONNX. A parity failure fails the build. -------------------
FROM ${BASE_IMAGE} AS convert
ARG MODEL_FILE
ARG CONVERT_ARGS=""
ARG CONVERTED=""
COPY site/convert/ /opt/convert-deps/
# LightGBM needs the system's libgomp.so.1; a base without one gets scikit-learn's bundled copy.
RUN mkdir -p /opt/convert-libs && { ldconfig -p | grep -q 'libgomp\.so\.1 ' \
        || ln -s /opt/convert-deps/scikit_learn.libs/libgomp-*.so* /opt/convert-libs/libgomp.so.1; }
COPY convert/ /opt/src/lambda_tabular/convert/
COPY runtime/ /opt/src/lambda_tabular/runtime/
COPY input/ /opt/src/input/
RUN cd /opt/src && if [ -n "${CONVERTED}" ]; then cp -a "input/${CONVERTED}" /opt/model; \
    else PYTHONPATH=/opt/convert-deps:/opt/src LD_LIBRARY_PATH=/opt/convert-libs \
        python3 -m lambda_tabular.convert "input/${MODEL_FILE}" --out /opt/model ${CONVERT_ARGS}; fi \
    && chmod -R a+rX /opt/model

# --- deps: onnxruntime + numpy, pruned, the handler, all byte-compiled. ------------------
FROM ${BASE_IMAGE} AS deps
ARG BASE_IMAGE
COPY site/task/ /opt/task/
COPY site/client/ /tmp/client/
COPY deploy/package/lambda-entrypoint.sh deploy/package/prune.py /tmp/requirements/
RUN set -e; \
    mkdir -p /opt/entry/etc; \
    echo "$BASE_IMAGE" > /opt/entry/etc/lambda-tabular-base; \
    if [ ! -e /lambda-entrypoint.sh ]; then \
        # A non-AWS Python base: bring the runtime interface client and the entrypoint.
        cp -a /tmp/client/. /opt/task/; \
        cp /tmp/requirements/lambda-entrypoint.sh /opt/entry/lambda-entrypoint.sh; \
    fi; \
    # What no model run imports, the same list as the zip's (deploy/package/prune.py).
    python3 /tmp/requirements/prune.py /opt/task
COPY runtime/ /opt/task/runtime/
# unchecked-hash pycs stay valid whatever the files' timestamps: on Lambda's read-only file
# system a stale .pyc would otherwise be recompiled on every cold start.
RUN find /opt/task -name __pycache__ -prune -exec rm -rf {} + \
    && python3 -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/task \
    && chmod -R a+rX /opt/task

# --- the image Lambda runs --------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG BASE_IMAGE
# Its base, from which `lambda-tabular function` tells whether Lambda can publish it with
# SnapStart (deploy/package/snapstart.py). On a base other than AWS's Python 3.12+ ones,
# `make image` also labels it com.amazonaws.lambda.feature.snapstart=Allow.
LABEL org.opencontainers.image.base.name="${BASE_IMAGE}"
ENV LAMBDA_TASK_ROOT=/var/task
COPY --from=deps /opt/entry/ /
COPY --from=deps /opt/task/ /var/task/
COPY --from=convert /opt/model/ /var/task/model/
WORKDIR /var/task
ENTRYPOINT ["/lambda-entrypoint.sh"]
CMD ["runtime.handler.handler"]
