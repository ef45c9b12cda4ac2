import pytest


@pytest.mark.django_db(transaction=True)
def test_operator_logs_in_and_sees_the_admin_index(page, live_server, operator):
    # given
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url
    # when
    page.fill("#id_username", "operator")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    # then
    assert page.inner_text("#site-name") == "Billing — operations"
    sections = page.locator("#content-main caption").all_inner_texts()
    assert sections[:3] == ["CUSTOMERS", "CATALOG", "USAGE"] or sections[:3] == [
        "Customers",
        "Catalog",
        "Usage",
    ]
    assert page.locator("a", has_text="API keys").count() >= 1
    assert page.get_attribute("#user-tools a[href='/api/docs/']", "href") == "/api/docs/"


@pytest.mark.django_db(transaction=True)
def test_wrong_password_stays_on_the_login_page(page, live_server, operator):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "wrong")
    page.click("input[type=submit]")
    assert "Please enter the correct username and password" in page.inner_text(".errornote")
