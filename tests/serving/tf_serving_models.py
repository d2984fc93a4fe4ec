"""Generic SavedModels for the TF Serving contract tests, built the way TF Serving's tests build theirs.

`half_plus_two` follows tensorflow_serving/servables/tensorflow/testdata/
saved_model_half_plus_two.py (a TF1 graph written by SavedModelBuilder with
predict, classify and regress signature defs); `two_class_classifier` is a TF2
`tf.saved_model.save` model shaped like TF Serving's classify API (`inputs` ->
`classes`, `scores`), whose signatures carry the predict method name as every
TF2 SavedModel's do.
"""

import pathlib

TWO_CLASSES = ("negative", "positive")


def half_plus_two(export_dir: pathlib.Path) -> pathlib.Path:
    """y = 0.5 * x + 2 (and y2 = 0.5 * x + 3, y3 = 0.5 * x2 + 3), as TF Serving's testdata.

    Signatures: serving_default (predict, x -> y), classify_x_to_y (inputs -> scores),
    regress_x_to_y, regress_x_to_y2, regress_x2_to_y3 (inputs -> outputs).
    """
    import tensorflow as tf

    v1 = tf.compat.v1
    utils, constants = v1.saved_model.utils, v1.saved_model.signature_constants
    build = v1.saved_model.signature_def_utils.build_signature_def

    def regression(input_tensor, output_tensor):
        return build(
            {constants.REGRESS_INPUTS: utils.build_tensor_info(input_tensor)},
            {constants.REGRESS_OUTPUTS: utils.build_tensor_info(output_tensor)},
            constants.REGRESS_METHOD_NAME,
        )

    def classification(input_tensor, scores_tensor):
        return build(
            {constants.CLASSIFY_INPUTS: utils.build_tensor_info(input_tensor)},
            {constants.CLASSIFY_OUTPUT_SCORES: utils.build_tensor_info(scores_tensor)},
            constants.CLASSIFY_METHOD_NAME,
        )

    with tf.Graph().as_default() as graph, v1.Session(graph=graph) as session:
        a = v1.Variable(0.5, name="a")
        b = v1.Variable(2.0, name="b")
        c = v1.Variable(3.0, name="c")
        serialized_tf_example = v1.placeholder(tf.string, name="tf_example", shape=[None])
        feature_configs = {
            "x": v1.FixedLenFeature([1], dtype=tf.float32),
            "x2": v1.FixedLenFeature([1], dtype=tf.float32, default_value=[0.0]),
        }
        tf_example = v1.parse_example(serialized_tf_example, feature_configs)
        x = tf.identity(tf_example["x"], name="x")
        y = tf.identity(tf.add(tf.multiply(a, x), b), name="y")
        y2 = tf.identity(tf.add(tf.multiply(a, x), c), name="y2")
        x2 = tf.identity(tf_example["x2"], name="x2")
        a2 = v1.Variable(0.5, name="a2")
        c2 = v1.Variable(3.0, name="c2")
        y3 = tf.identity(tf.add(tf.multiply(a2, x2), c2), name="y3")
        x_info, y_info = utils.build_tensor_info(x), utils.build_tensor_info(y)
        predict = build({"x": x_info}, {"y": y_info}, constants.PREDICT_METHOD_NAME)
        signature_def_map = {
            "regress_x_to_y": regression(serialized_tf_example, y),
            "regress_x_to_y2": regression(serialized_tf_example, y2),
            "regress_x2_to_y3": regression(x2, y3),
            "classify_x_to_y": classification(serialized_tf_example, y),
            constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: predict,
        }
        session.run(v1.global_variables_initializer())
        builder = v1.saved_model.builder.SavedModelBuilder(str(export_dir))
        builder.add_meta_graph_and_variables(
            session, [v1.saved_model.tag_constants.SERVING], signature_def_map=signature_def_map
        )
        builder.save()
    return pathlib.Path(export_dir)


def two_class_classifier(export_dir: pathlib.Path) -> pathlib.Path:
    """A TF2 classifier of a float feature "x": scores [sigmoid(-x), sigmoid(x)] over TWO_CLASSES.

    Signatures: serving_default (inputs: serialized tf.Examples -> classes, scores) and
    predict_x (x: float [-1] -> classes, scores).
    """
    import tensorflow as tf

    class Classifier(tf.Module):
        def _outputs(self, x):
            scores = tf.stack([tf.sigmoid(-x), tf.sigmoid(x)], axis=1)
            classes = tf.tile(tf.constant([list(TWO_CLASSES)]), [tf.shape(x)[0], 1])
            return {"classes": classes, "scores": scores}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def classify(self, inputs):
            parsed = tf.io.parse_example(inputs, {"x": tf.io.FixedLenFeature([], tf.float32)})
            return self._outputs(parsed["x"])

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def predict_x(self, x):
            return self._outputs(x)

    model = Classifier()
    tf.saved_model.save(
        model, str(export_dir), signatures={"serving_default": model.classify, "predict_x": model.predict_x}
    )
    return pathlib.Path(export_dir)


def text_classifier(export_dir: pathlib.Path) -> pathlib.Path:
    """A TF2 text classifier with the signatures Polarity exports, and a rule for a model.

    predict_text (text: string [-1] -> classes, scores) and serving_default (inputs:
    serialized tf.Examples with a "text" feature -> classes, scores) over TWO_CLASSES;
    a text containing "good" scores 0.9 positive, any other 0.1.
    """
    import tensorflow as tf

    class TextClassifier(tf.Module):
        def _outputs(self, text):
            good = tf.strings.regex_full_match(tf.strings.lower(text), ".*good.*")
            positive = 0.1 + 0.8 * tf.cast(good, tf.float32)
            scores = tf.stack([1.0 - positive, positive], axis=1)
            classes = tf.tile(tf.constant([list(TWO_CLASSES)]), [tf.shape(text)[0], 1])
            return {"classes": classes, "scores": scores}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def classify(self, inputs):
            parsed = tf.io.parse_example(inputs, {"text": tf.io.FixedLenFeature([], tf.string)})
            return self._outputs(parsed["text"])

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def predict_text(self, text):
            return self._outputs(text)

    model = TextClassifier()
    tf.saved_model.save(
        model,
        str(export_dir),
        signatures={"serving_default": model.classify, "predict_text": model.predict_text},
    )
    return pathlib.Path(export_dir)
