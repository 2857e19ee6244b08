"""The reference page's Java example, unchanged but for its placeholders, against the real server:
Debian's OpenJDK 17 and OkHttp 3.13.1 (libokhttp-java, with its okio). The page gives only the
statements, so they are wrapped verbatim in a main method (with `import okhttp3.*;`), followed by
two lines that print what the example receives: the status code, then the body. The token is then
verified by PyJWT against the server's JWKS, like the page's other examples."""

import json
import os
import shutil
import subprocess

import pytest

from reference_examples import (check_documented_response, child_env, fenced_blocks, page_text,
                                substitute, verify_admin_token)

# Debian's libokhttp-java and libokio-java; okhttp.jar's manifest also names okio.jar.
JARS = ["/usr/share/java/okhttp.jar", "/usr/share/java/okio.jar"]

WRAPPER = """import okhttp3.*;

public class ReferenceExample {
  public static void main(String[] args) throws Exception {
%s
    System.out.println(response.code());
    System.out.println(response.body().string());
  }
}
"""


def java_block():
    java = fenced_blocks(page_text(), "java")
    assert len(java) == 1 and "OkHttpClient" in java[0], java
    return java[0]


def run(argv, tmp):
    env = child_env()
    env["HOME"] = str(tmp)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd=tmp)
    assert out.returncode == 0, (argv, out.stdout, out.stderr)
    return out.stdout


@pytest.fixture(scope="module")
def java_output(bb_server, tmp_path_factory):
    for tool in ("javac", "java"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required (scripts/install-deps.sh test installs "
                        "openjdk-17-jdk-headless)")
    for jar in JARS:
        if not os.path.isfile(jar):
            pytest.fail(f"{jar} is missing (scripts/install-deps.sh test installs libokhttp-java)")
    tmp = tmp_path_factory.mktemp("java")
    source = tmp / "ReferenceExample.java"
    source.write_text(WRAPPER % substitute(java_block(), bb_server))
    classes = tmp / "classes"
    run(["javac", "-cp", ":".join(JARS), "-d", str(classes), str(source)], tmp)
    out = run(["java", "-cp", ":".join([str(classes), *JARS]), "ReferenceExample"], tmp)
    code, _, body = out.partition("\n")
    return int(code), body


def test_the_block_is_wrapped_verbatim(bb_server):
    block = substitute(java_block(), bb_server)
    assert (WRAPPER % block).count(block) == 1
    # The statements are the page's own: OkHttp's builder, a POST with the form body and the
    # Basic header, executed synchronously.
    assert 'RequestBody.create(mediaType, "grant_type=client_credentials")' in block
    assert f'.url("{bb_server.token_url()}")' in block
    assert "Response response = client.newCall(request).execute();" in block


def test_java_example_prints_the_documented_response(java_output):
    code, body = java_output
    assert code == 200, body
    check_documented_response(json.loads(body))


def test_java_example_token_verifies_with_pyjwt(bb_server, java_output):
    _, body = java_output
    verify_admin_token(bb_server, json.loads(body)["access_token"])
