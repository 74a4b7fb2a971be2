"""Trust through people you know, in three real browsers: a buyer trades with a shop, puts it on
her warn list and tells her friends how it went, with a photo; a friend of hers sees that warning
on his own order before paying, and on the shop's community page her experience, and her answer
to his question, marked as a buyer's."""
import base64
import os
import tempfile
import unittest
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from fiducia_browser import BrowserTestCase, make_driver


# A 32x24 PNG (a green tin with a gold band).
TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAACAAAAAYCAIAAAAUMWhjAAAALElEQVR42mPQqzWiKWIYtWDUglELjBiurDenKRq1YCRYMJrRRi0YtYD2FgAAi6887qQ+xyIAAAAASUVORK5CYII="


class FriendsWarningTest(BrowserTestCase):
    def order_from(self, seller_name, title, price):
        self.visit("/orders/new")
        Select(self.driver.find_element(By.ID, "sellerId")).select_by_visible_text(seller_name)
        self.fill("title", title)
        self.fill("quantity", "1")
        self.fill("unitPrice", price)
        self.submit("/orders")
        self.wait.until(lambda d: "/orders/ord_" in d.current_url)
        return self.driver.current_url.split("?")[0]

    def own_id(self):
        """The signed-in person's account id, from the link to their public profile on /account."""
        self.visit("/account")
        link = self.driver.find_element(By.ID, "public-profile").get_attribute("href")
        return link.rstrip("/").split("/")[-1]

    def test_a_friends_warning_reaches_the_buyer_before_paying(self):
        tag = uuid.uuid4().hex[:6]
        shop_name = f"Gadget Hut {tag}"
        shop, friend = make_driver(), make_driver()
        buyer = self.driver
        try:
            self.driver = shop
            self.sign_up(shop_name, self.unique_email("shop"), seller=True)

            # Fay buys from the shop; it ships; she confirms, then warns against it.
            self.driver = friend
            self.sign_up(f"Fay {tag}", self.unique_email("fay"))
            fay_id = self.own_id()
            order_url = self.order_from(shop_name, "Phone charger", "19.00")
            self.driver.find_element(By.CSS_SELECTOR, 'input[name="method"][value="card"]').click()
            self.fill("cardToken", "tok_visa")
            self.press('form[action$="/pay"] button')
            self.driver = shop
            self.driver.get(order_url)
            self.fill("carrier", "DHL")
            self.fill("trackingNumber", "DH1")
            self.press('form[action$="/ship"] button')
            self.driver = friend
            self.driver.get(order_url)
            self.press('form[action$="/confirm"] button')
            self.assertIn("notice=confirmed", self.driver.current_url)
            shop_profile = self.driver.find_element(By.CSS_SELECTOR, 'a[href^="/merchants/"]').get_attribute("href")
            self.driver.get(shop_profile)
            self.driver.find_element(By.CSS_SELECTOR, '#list-form input[name="list"][value="warned"]').click()
            self.fill("note", "Charger died in a week, no answer since")
            self.press("#list-form button")
            self.visit("/trust-list")
            self.assertIn("Charger died in a week", self.text())
            # She tells her friends, with a photo, from the order's page (once per order).
            photo = os.path.join(tempfile.mkdtemp(), "charger.png")
            with open(photo, "wb") as file:
                file.write(base64.b64decode(TINY_PNG))
            self.driver.get(order_url)
            self.fill("experience-text", "Looked fine, died after a week. Ask for a refund early.")
            self.driver.find_element(By.ID, "experience-files").send_keys(photo)
            self.press('form[action$="/experience"] button')
            self.assertIn("notice=experience-shared", self.driver.current_url)
            self.assertIn("You shared this with your friends", self.text())

            # Gus asks Fay to be friends; she accepts on her friends page.
            self.driver = buyer
            self.sign_up(f"Gus {tag}", self.unique_email("gus"))
            self.visit("/friends")
            self.fill("userId", fay_id)
            self.fill("message", "From the tea club")
            self.submit("/friends/requests")
            self.assertIn(f"Fay {tag}", self.text())
            self.driver = friend
            self.visit("/friends")
            self.assertIn("From the tea club", self.text())
            self.press('li.friend-request form input[value="yes"] ~ button')
            self.assertIn(f"Gus {tag}", self.driver.find_element(By.ID, "friends-heading").find_element(By.XPATH, "..").text)

            # Gus orders from the same shop: before paying, Fay's warning is on his order page,
            # with the article that explains it; the shop's profile shows what his network knows.
            self.driver = buyer
            self.order_from(shop_name, "Phone charger", "19.00")
            warning = self.driver.find_element(By.CSS_SELECTOR, '.risk-warning[data-kind="friendWarned"]')
            self.assertIn(f"Your friend Fay {tag} would not trade with this seller again.", warning.text)
            warning.find_element(By.LINK_TEXT, "Why this matters").click()
            self.assertIn("When a friend warns you", self.text())
            self.driver.get(shop_profile)
            self.assertIn("1 friend warns against them.", self.text())
            self.assertIn("Charger died in a week", self.text())

            # The community page: Fay's experience and its photo, and a question answered by her
            # with the buyer's mark, accepted by Gus.
            self.driver.find_element(By.ID, "community-link").click()
            self.assertIn("died after a week", self.driver.find_element(By.ID, "experiences").text)
            image = self.driver.find_element(By.CSS_SELECTOR, "#experiences img")
            self.assertTrue(self.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image))
            community_url = self.driver.current_url
            self.fill("question-text", "Does the charger work with a laptop?")
            self.press('form[action$="/questions"] button')
            self.assertIn("Does the charger work with a laptop?", self.text())
            self.driver = friend
            self.driver.get(community_url)
            answer_box = self.driver.find_element(By.CSS_SELECTOR, "article.question textarea")
            answer_box.send_keys("Mine did, for a week.")
            self.press("article.question form.stacked button")
            self.assertIn("Bought from this seller", self.driver.find_element(By.CSS_SELECTOR, "li.answer").text)
            self.driver = buyer
            self.driver.get(community_url)
            self.press('form[action$="/accept"] button')
            self.assertIn("Accepted answer", self.driver.find_element(By.CSS_SELECTOR, "li.answer.accepted").text)
        finally:
            self.driver = buyer
            shop.quit()
            friend.quit()


if __name__ == "__main__":
    unittest.main()
