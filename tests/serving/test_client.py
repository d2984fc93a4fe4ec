"""The Python clients: REST against the embedded server, gRPC against a PredictionService (real model)."""

import concurrent.futures

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from components import features
from serving.client import GrpcClient, RestClient, ServingError
from serving.servable import Servable

REVIEWS = ["An absolute delight from start to finish.", "Boring, clumsy and far too long."]


def _expected(in_process_model):
    outputs = in_process_model.signatures[features.PREDICT_TEXT_SIGNATURE](
        **{features.TEXT_KEY: tf.constant(REVIEWS)}
    )
    return outputs[features.PROBABILITY_KEY].numpy(), outputs[features.PREDICTED_LABEL_KEY].numpy()


def test_rest_client_scores_reviews(server, in_process_model):
    rest = RestClient(server.url)
    predictions = rest.predict_texts(REVIEWS)
    probabilities, labels = _expected(in_process_model)
    np.testing.assert_allclose([p.probability for p in predictions], probabilities, rtol=1e-6)
    assert [p.label for p in predictions] == labels.tolist()
    assert rest.predict_texts(REVIEWS[:1], version=1) == predictions[:1]
    assert rest.status()["model_version_status"][0]["state"] == "AVAILABLE"
    assert rest.metadata()["model_spec"]["name"] == "polarity"


def test_rest_client_raises_the_server_error(server):
    with pytest.raises(ServingError) as error:
        RestClient(server.url, model="nope").predict_texts(["x"])
    assert error.value.status == 404 and "Latest(nope)" in error.value.message


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """TF Serving's gRPC Predict, answered by the real model (what the client talks to on port 8500)."""

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


def test_grpc_client_against_a_prediction_service(model_version_dir, in_process_model):
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        _PredictionService(Servable.load(1, model_version_dir)), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        client = GrpcClient(f"127.0.0.1:{port}")
        predictions = client.predict_texts(REVIEWS)
        client.close()
    finally:
        server.stop(None)
    probabilities, labels = _expected(in_process_model)
    np.testing.assert_allclose([p.probability for p in predictions], probabilities, rtol=1e-6)
    assert [p.label for p in predictions] == labels.tolist()
