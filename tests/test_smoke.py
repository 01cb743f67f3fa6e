def test_metadata_names_the_admin_issuer(api, anonymous):
    response = anonymous.get("/api/admin/metadata")
    assert response.status_code == 200
    assert response.json()["issuer"].endswith("/porta-admin")
