# A local stand-in for public.ecr.aws/lambda/python, for machines that reach no registry:
# the same contract (awslambdaric, the Runtime Interface Emulator, /lambda-entrypoint.sh,
# LAMBDA_TASK_ROOT=/var/task) on a Debian root file system built with debootstrap, for either
# architecture. The runtime interface client comes installed on the host for this Python and
# architecture (runtime/); the image's own Python compiles it.
ARG ROOTFS_IMAGE
FROM ${ROOTFS_IMAGE}
COPY runtime/ /var/runtime/
RUN rm -rf /var/runtime/bin \
    && python3 -m compileall -q --invalidation-mode unchecked-hash /var/runtime \
    && mkdir -p /var/task
COPY aws-lambda-rie /usr/local/bin/aws-lambda-rie
COPY lambda-entrypoint.sh /lambda-entrypoint.sh
ENV LANG=C.UTF-8 \
    TZ=:/etc/localtime \
    LAMBDA_TASK_ROOT=/var/task \
    LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
ENTRYPOINT ["/lambda-entrypoint.sh"]
