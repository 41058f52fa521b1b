# A local stand-in for public.ecr.aws/lambda/python, for machines that reach no registry:
# the same contract (awslambdaric, the Runtime Interface Emulator, /lambda-entrypoint.sh,
# LAMBDA_TASK_ROOT=/var/task) on a Debian root file system built with debootstrap.
ARG ROOTFS_IMAGE
FROM ${ROOTFS_IMAGE}
ARG PIP_WHEEL
COPY wheels/ /tmp/wheels/
COPY lambda-client.txt /tmp/lambda-client.txt
RUN python3 /tmp/wheels/${PIP_WHEEL}/pip install --quiet --no-index --find-links /tmp/wheels \
        --no-cache-dir --target /var/runtime -r /tmp/lambda-client.txt \
    && python3 -m compileall -q --invalidation-mode unchecked-hash /var/runtime \
    && rm -rf /tmp/wheels /tmp/lambda-client.txt /var/runtime/bin \
    && mkdir -p /var/task
COPY aws-lambda-rie /usr/local/bin/aws-lambda-rie
COPY lambda-entrypoint.sh /lambda-entrypoint.sh
ENV LANG=C.UTF-8 \
    TZ=:/etc/localtime \
    LAMBDA_TASK_ROOT=/var/task \
    LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
ENTRYPOINT ["/lambda-entrypoint.sh"]
