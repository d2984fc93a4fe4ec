# The pipeline image for Kubeflow Pipelines v2. Every step runs
# `python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor`
# in it, imports its code by module path (components.trainer.run_fn, ...) and
# reads the schema at /pipeline/schemas (kubeflow.schema_path).
#
#   docker build -t REGISTRY/polarity:TAG . && docker push REGISTRY/polarity:TAG
#   polarity compile kubeflow --output pipeline.yaml --set kubeflow.image=REGISTRY/polarity:TAG ...
#
# The CUDA/cuDNN base lets the Trainer use the GPU it asks for; TensorFlow
# falls back to the CPU where there is none. For a CPU-only image:
#   docker build --build-arg BASE_IMAGE=ubuntu:22.04 ...
ARG BASE_IMAGE=nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04
FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Ubuntu 22.04's Python is 3.10, the version constraints.txt was resolved for.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.10 python3.10-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3.10 -m venv /opt/venv \
    && pip install pip==24.3.1

WORKDIR /pipeline
COPY . /pipeline
# The same pins as CI and `make install`; the kubeflow extra brings kfp-pipeline-spec,
# which the step entrypoint imports.
RUN pip install -c constraints.txt "/pipeline[kubeflow]" \
    && python -c "import components.trainer, pipelines.pipeline, schemas; print('pipeline image ok')"

CMD ["polarity", "--help"]
