"""The Python clients: REST against the embedded server, gRPC against a PredictionService.

Both learn the class names from the model's `classes` output; the model here is a
generic text classifier built for the test (tf_serving_models.text_classifier).
"""

import concurrent.futures

import grpc
import pytest
import tensorflow as tf
from serving_helpers import running_server, server_options
from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc
from tf_serving_models import TWO_CLASSES, text_classifier

from serving import model_dir
from serving.client import GrpcClient, Prediction, RestClient, ServingError
from serving.servable import Servable

TEXTS = ["A good film.", "Boring, clumsy and far too long."]
NEGATIVE, POSITIVE = TWO_CLASSES
EXPECTED = [
    Prediction({NEGATIVE: pytest.approx(0.1), POSITIVE: pytest.approx(0.9)}),
    Prediction({NEGATIVE: pytest.approx(0.9), POSITIVE: pytest.approx(0.1)}),
]


@pytest.fixture(scope="module")
def text_model(tmp_path_factory):
    return text_classifier(tmp_path_factory.mktemp("text_classifier") / "model")


@pytest.fixture(scope="module")
def text_server(tmp_path_factory, text_model):
    base = tmp_path_factory.mktemp("client_models") / "polarity"
    model_dir.publish(text_model, base, 1)
    with running_server(server_options(base)) as running:
        yield running


def test_rest_client_scores_texts_with_the_models_classes(text_server):
    rest = RestClient(text_server.url)
    predictions = rest.predict_texts(TEXTS)
    assert predictions == EXPECTED
    assert [p.top_class for p in predictions] == [POSITIVE, NEGATIVE]
    assert list(predictions[0].scores) == list(TWO_CLASSES)  # the model's class order
    assert rest.predict_texts(TEXTS[:1], version=1) == predictions[:1]
    assert rest.status()["model_version_status"][0]["state"] == "AVAILABLE"
    assert rest.metadata()["model_spec"]["name"] == "polarity"


def test_rest_client_raises_the_server_error(text_server):
    with pytest.raises(ServingError) as error:
        RestClient(text_server.url, model="nope").predict_texts(["x"])
    assert error.value.status == 404 and "Latest(nope)" in error.value.message


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """TF Serving's gRPC Predict and GetModelMetadata, answered by a real model (port 8500's API)."""

    def __init__(self, servable: Servable):
        self.servable = servable

    def Predict(self, request, context):  # noqa: N802 (gRPC method name)
        arrays = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
        outputs = self.servable.run(request.model_spec.signature_name, arrays)
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        return response

    def GetModelMetadata(self, request, context):  # noqa: N802 (gRPC method name)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        for name, signature_def in self.servable.signature_defs.items():
            signatures.signature_def[name].CopyFrom(signature_def)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.metadata["signature_def"].Pack(signatures)
        return response


def test_grpc_client_against_a_prediction_service(text_model):
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        _PredictionService(Servable.load(1, text_model)), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        client = GrpcClient(f"127.0.0.1:{port}")
        predictions = client.predict_texts(TEXTS)
        client.close()
    finally:
        server.stop(None)
    assert predictions == EXPECTED
    assert [p.top_class for p in predictions] == [POSITIVE, NEGATIVE]
